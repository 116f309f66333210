export default {
  displayName: 'collector',
  preset: '../../jest.preset.js',
  rootDir: '.',
};
