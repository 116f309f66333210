export default {
  displayName: 'zmq-events',
  preset: '../../jest.preset.js',
  rootDir: '.',
};
