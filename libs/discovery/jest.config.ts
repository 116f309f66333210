export default {
  displayName: 'discovery',
  preset: '../../jest.preset.js',
  rootDir: '.',
};
