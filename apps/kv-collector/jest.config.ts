export default {
  displayName: 'kv-collector',
  preset: '../../jest.preset.js',
  rootDir: '.',
};
