export default {
  displayName: 'architecture',
  preset: '../../jest.preset.js',
  rootDir: '.',
};
