export default {
  displayName: 'block-keys',
  preset: '../../jest.preset.js',
  rootDir: '.',
};
