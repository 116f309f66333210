export default {
  displayName: 'tokenizer',
  preset: '../../jest.preset.js',
  rootDir: '.',
};
