import { defineErrors } from '../errors';

export const CodecErrors = defineErrors('CODEC', {
  MALFORMED: 'malformed closure stream',
  TRUNCATED: 'truncated closure stream',
  VERSION: 'unsupported closure codec version',
  TOO_DEEP: 'value nesting exceeds the limit',
  TOO_LARGE: 'encoded value exceeds the size limit',
  UNSUPPORTED: 'value cannot be encoded',
  BAD_REF: 'remote reference refused',
});
