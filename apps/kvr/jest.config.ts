export default {
  displayName: 'kvr',
  preset: '../../jest.preset.js',
  rootDir: '.',
};
