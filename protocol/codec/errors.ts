import { defineErrors } from '../errors';

export const CodecErrors = defineErrors('CODEC', {
  MALFORMED: ['BEEHIVE_ERR_CODEC_MALFORMED', 'malformed closure stream'],
  TRUNCATED: ['BEEHIVE_ERR_CODEC_TRUNCATED', 'truncated closure stream'],
  VERSION: ['BEEHIVE_ERR_CODEC_VERSION', 'unsupported closure codec version'],
  TOO_DEEP: ['BEEHIVE_ERR_CODEC_TOO_DEEP', 'value nesting exceeds the limit'],
  TOO_LARGE: ['BEEHIVE_ERR_CODEC_TOO_LARGE', 'encoded value exceeds the size limit'],
  UNSUPPORTED: ['BEEHIVE_ERR_CODEC_UNSUPPORTED', 'value cannot be encoded'],
  BAD_REF: ['BEEHIVE_ERR_CODEC_BAD_REF', 'remote reference refused'],
});
