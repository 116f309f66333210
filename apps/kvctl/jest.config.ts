export default {
  displayName: 'kvctl',
  preset: '../../jest.preset.js',
  rootDir: '.',
};
