export default {
  displayName: 'load-scorer',
  preset: '../../jest.preset.js',
  rootDir: '.',
};
