export default {
  displayName: 'local-servers',
  preset: '../../jest.preset.js',
  rootDir: '.',
};
