export default {
  displayName: 'jetstream',
  preset: '../../jest.preset.js',
  rootDir: '.',
};
