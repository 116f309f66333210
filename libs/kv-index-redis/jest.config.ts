export default {
  displayName: 'kv-index-redis',
  preset: '../../jest.preset.js',
  rootDir: '.',
};
