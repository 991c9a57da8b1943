import { defineErrors } from '../../protocol';

export const CaptureErrors = defineErrors('CAPTURE', {
  NATIVE: 'native function cannot be shipped',
  UNSUPPORTED: 'value cannot be shipped to a worker',
  PRIVATE: 'private fields cannot be recreated on the worker',
  PACKAGE_STATE: 'package changed after loading: a worker would run a pristine copy',
});
