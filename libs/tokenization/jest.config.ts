export default {
  displayName: 'tokenization',
  preset: '../../jest.preset.js',
  rootDir: '.',
};
