export default {
  displayName: 'kv-events',
  preset: '../../jest.preset.js',
  rootDir: '.',
};
