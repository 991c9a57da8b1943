import { defineErrors } from '../../protocol';

export const CaptureErrors = defineErrors('CAPTURE', {
  NATIVE: ['BEEHIVE_ERR_CAPTURE_NATIVE', 'native function cannot be shipped'],
  UNSUPPORTED: ['BEEHIVE_ERR_CAPTURE_UNSUPPORTED', 'value cannot be shipped to a worker'],
  PRIVATE: ['BEEHIVE_ERR_CAPTURE_PRIVATE', 'private fields cannot be recreated on the worker'],
  PACKAGE_STATE: ['BEEHIVE_ERR_CAPTURE_PACKAGE_STATE', 'package changed after loading: a worker would run a pristine copy'],
  PARSE: ['BEEHIVE_ERR_CAPTURE_PARSE', 'cannot parse the source of a function', SyntaxError],
  INSPECTOR: ['BEEHIVE_ERR_CAPTURE_INSPECTOR', 'the inspector did not answer synchronously'],
  PRIVATE_NAME: ['BEEHIVE_ERR_CAPTURE_PRIVATE_NAME', 'not a private field name', TypeError],
  PRIVATE_WRITE: ['BEEHIVE_ERR_CAPTURE_PRIVATE_WRITE', 'cannot write a private field'],
});
