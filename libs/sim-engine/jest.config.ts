export default {
  displayName: 'sim-engine',
  preset: '../../jest.preset.js',
  rootDir: '.',
};
