export default {
  displayName: 'kv-index',
  preset: '../../jest.preset.js',
  rootDir: '.',
};
