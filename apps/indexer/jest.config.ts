export default {
  displayName: 'indexer',
  preset: '../../jest.preset.js',
  rootDir: '.',
};
