export default {
  displayName: 'stack',
  preset: '../../jest.preset.js',
  rootDir: '.',
};
