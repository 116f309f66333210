export default {
  displayName: 'tokenizer-grpc',
  preset: '../../jest.preset.js',
  rootDir: '.',
};
