export default {
  displayName: 'vllm-sim',
  preset: '../../jest.preset.js',
  rootDir: '.',
};
