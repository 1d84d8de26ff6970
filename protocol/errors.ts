/*
 * OpenFlow 1.3 error types and codes, and the typed errors the codec raises.
 *
 * Decoding never lets an untyped exception escape: every malformed input becomes an
 * OfpDecodeError carrying the (type, code) pair the switch must answer with, so the
 * connection handler can reply with OFPT_ERROR directly.
 */

export const OFPET_HELLO_FAILED = 0;
export const OFPET_BAD_REQUEST = 1;
export const OFPET_BAD_ACTION = 2;
export const OFPET_BAD_INSTRUCTION = 3;
export const OFPET_BAD_MATCH = 4;
export const OFPET_FLOW_MOD_FAILED = 5;
export const OFPET_GROUP_MOD_FAILED = 6;
export const OFPET_PORT_MOD_FAILED = 7;
export const OFPET_TABLE_MOD_FAILED = 8;
export const OFPET_QUEUE_OP_FAILED = 9;
export const OFPET_SWITCH_CONFIG_FAILED = 10;
export const OFPET_ROLE_REQUEST_FAILED = 11;
export const OFPET_METER_MOD_FAILED = 12;
export const OFPET_TABLE_FEATURES_FAILED = 13;
export const OFPET_EXPERIMENTER = 0xffff;

export const OFPHFC_INCOMPATIBLE = 0;
export const OFPHFC_EPERM = 1;

export const OFPBRC_BAD_VERSION = 0;
export const OFPBRC_BAD_TYPE = 1;
export const OFPBRC_BAD_MULTIPART = 2;
export const OFPBRC_BAD_EXPERIMENTER = 3;
export const OFPBRC_BAD_EXP_TYPE = 4;
export const OFPBRC_EPERM = 5;
export const OFPBRC_BAD_LEN = 6;
export const OFPBRC_BUFFER_EMPTY = 7;
export const OFPBRC_BUFFER_UNKNOWN = 8;
export const OFPBRC_BAD_TABLE_ID = 9;
export const OFPBRC_IS_SLAVE = 10;
export const OFPBRC_BAD_PORT = 11;
export const OFPBRC_BAD_PACKET = 12;
export const OFPBRC_MULTIPART_BUFFER_OVERFLOW = 13;

export const OFPBAC_BAD_TYPE = 0;
export const OFPBAC_BAD_LEN = 1;
export const OFPBAC_BAD_EXPERIMENTER = 2;
export const OFPBAC_BAD_EXP_TYPE = 3;
export const OFPBAC_BAD_OUT_PORT = 4;
export const OFPBAC_BAD_ARGUMENT = 5;
export const OFPBAC_EPERM = 6;
export const OFPBAC_TOO_MANY = 7;
export const OFPBAC_BAD_QUEUE = 8;
export const OFPBAC_BAD_OUT_GROUP = 9;
export const OFPBAC_MATCH_INCONSISTENT = 10;
export const OFPBAC_UNSUPPORTED_ORDER = 11;
export const OFPBAC_BAD_TAG = 12;
export const OFPBAC_BAD_SET_TYPE = 13;
export const OFPBAC_BAD_SET_LEN = 14;
export const OFPBAC_BAD_SET_ARGUMENT = 15;

export const OFPBIC_UNKNOWN_INST = 0;
export const OFPBIC_UNSUP_INST = 1;
export const OFPBIC_BAD_TABLE_ID = 2;
export const OFPBIC_UNSUP_METADATA = 3;
export const OFPBIC_UNSUP_METADATA_MASK = 4;
export const OFPBIC_BAD_EXPERIMENTER = 5;
export const OFPBIC_BAD_EXP_TYPE = 6;
export const OFPBIC_BAD_LEN = 7;
export const OFPBIC_EPERM = 8;

export const OFPBMC_BAD_TYPE = 0;
export const OFPBMC_BAD_LEN = 1;
export const OFPBMC_BAD_TAG = 2;
export const OFPBMC_BAD_DL_ADDR_MASK = 3;
export const OFPBMC_BAD_NW_ADDR_MASK = 4;
export const OFPBMC_BAD_WILDCARDS = 5;
export const OFPBMC_BAD_FIELD = 6;
export const OFPBMC_BAD_VALUE = 7;
export const OFPBMC_BAD_MASK = 8;
export const OFPBMC_BAD_PREREQ = 9;
export const OFPBMC_DUP_FIELD = 10;
export const OFPBMC_EPERM = 11;

export const OFPFMFC_UNKNOWN = 0;
export const OFPFMFC_TABLE_FULL = 1;
export const OFPFMFC_BAD_TABLE_ID = 2;
export const OFPFMFC_OVERLAP = 3;
export const OFPFMFC_EPERM = 4;
export const OFPFMFC_BAD_TIMEOUT = 5;
export const OFPFMFC_BAD_COMMAND = 6;
export const OFPFMFC_BAD_FLAGS = 7;

export const OFPGMFC_GROUP_EXISTS = 0;
export const OFPGMFC_INVALID_GROUP = 1;
export const OFPGMFC_WEIGHT_UNSUPPORTED = 2;
export const OFPGMFC_OUT_OF_GROUPS = 3;
export const OFPGMFC_OUT_OF_BUCKETS = 4;
export const OFPGMFC_CHAINING_UNSUPPORTED = 5;
export const OFPGMFC_WATCH_UNSUPPORTED = 6;
export const OFPGMFC_LOOP = 7;
export const OFPGMFC_UNKNOWN_GROUP = 8;
export const OFPGMFC_CHAINED_GROUP = 9;
export const OFPGMFC_BAD_TYPE = 10;
export const OFPGMFC_BAD_COMMAND = 11;
export const OFPGMFC_BAD_BUCKET = 12;
export const OFPGMFC_BAD_WATCH = 13;
export const OFPGMFC_EPERM = 14;

export const OFPPMFC_BAD_PORT = 0;
export const OFPPMFC_BAD_HW_ADDR = 1;
export const OFPPMFC_BAD_CONFIG = 2;
export const OFPPMFC_BAD_ADVERTISE = 3;
export const OFPPMFC_EPERM = 4;

export const OFPTMFC_BAD_TABLE = 0;
export const OFPTMFC_BAD_CONFIG = 1;
export const OFPTMFC_EPERM = 2;

export const OFPQOFC_BAD_PORT = 0;
export const OFPQOFC_BAD_QUEUE = 1;
export const OFPQOFC_EPERM = 2;

export const OFPSCFC_BAD_FLAGS = 0;
export const OFPSCFC_BAD_LEN = 1;
export const OFPSCFC_EPERM = 2;

export const OFPRRFC_STALE = 0;
export const OFPRRFC_UNSUP = 1;
export const OFPRRFC_BAD_ROLE = 2;

export const OFPMMFC_UNKNOWN = 0;
export const OFPMMFC_METER_EXISTS = 1;
export const OFPMMFC_INVALID_METER = 2;
export const OFPMMFC_UNKNOWN_METER = 3;
export const OFPMMFC_BAD_COMMAND = 4;
export const OFPMMFC_BAD_FLAGS = 5;
export const OFPMMFC_BAD_RATE = 6;
export const OFPMMFC_BAD_BURST = 7;
export const OFPMMFC_BAD_BAND = 8;
export const OFPMMFC_BAD_BAND_VALUE = 9;
export const OFPMMFC_OUT_OF_METERS = 10;
export const OFPMMFC_OUT_OF_BANDS = 11;

export const OFPTFFC_BAD_TABLE = 0;
export const OFPTFFC_BAD_METADATA = 1;
export const OFPTFFC_BAD_TYPE = 2;
export const OFPTFFC_BAD_LEN = 3;
export const OFPTFFC_BAD_ARGUMENT = 4;
export const OFPTFFC_EPERM = 5;

/** Spec names of every error type and its codes, for logs, tests and `ofp-print`-like output. */
export const ERROR_NAMES: Readonly<Record<number, { type: string; codes: readonly string[] }>> = {
  [OFPET_HELLO_FAILED]: { type: 'OFPET_HELLO_FAILED', codes: ['OFPHFC_INCOMPATIBLE', 'OFPHFC_EPERM'] },
  [OFPET_BAD_REQUEST]: {
    type: 'OFPET_BAD_REQUEST',
    codes: ['OFPBRC_BAD_VERSION', 'OFPBRC_BAD_TYPE', 'OFPBRC_BAD_MULTIPART', 'OFPBRC_BAD_EXPERIMENTER',
      'OFPBRC_BAD_EXP_TYPE', 'OFPBRC_EPERM', 'OFPBRC_BAD_LEN', 'OFPBRC_BUFFER_EMPTY', 'OFPBRC_BUFFER_UNKNOWN',
      'OFPBRC_BAD_TABLE_ID', 'OFPBRC_IS_SLAVE', 'OFPBRC_BAD_PORT', 'OFPBRC_BAD_PACKET',
      'OFPBRC_MULTIPART_BUFFER_OVERFLOW'],
  },
  [OFPET_BAD_ACTION]: {
    type: 'OFPET_BAD_ACTION',
    codes: ['OFPBAC_BAD_TYPE', 'OFPBAC_BAD_LEN', 'OFPBAC_BAD_EXPERIMENTER', 'OFPBAC_BAD_EXP_TYPE',
      'OFPBAC_BAD_OUT_PORT', 'OFPBAC_BAD_ARGUMENT', 'OFPBAC_EPERM', 'OFPBAC_TOO_MANY', 'OFPBAC_BAD_QUEUE',
      'OFPBAC_BAD_OUT_GROUP', 'OFPBAC_MATCH_INCONSISTENT', 'OFPBAC_UNSUPPORTED_ORDER', 'OFPBAC_BAD_TAG',
      'OFPBAC_BAD_SET_TYPE', 'OFPBAC_BAD_SET_LEN', 'OFPBAC_BAD_SET_ARGUMENT'],
  },
  [OFPET_BAD_INSTRUCTION]: {
    type: 'OFPET_BAD_INSTRUCTION',
    codes: ['OFPBIC_UNKNOWN_INST', 'OFPBIC_UNSUP_INST', 'OFPBIC_BAD_TABLE_ID', 'OFPBIC_UNSUP_METADATA',
      'OFPBIC_UNSUP_METADATA_MASK', 'OFPBIC_BAD_EXPERIMENTER', 'OFPBIC_BAD_EXP_TYPE', 'OFPBIC_BAD_LEN',
      'OFPBIC_EPERM'],
  },
  [OFPET_BAD_MATCH]: {
    type: 'OFPET_BAD_MATCH',
    codes: ['OFPBMC_BAD_TYPE', 'OFPBMC_BAD_LEN', 'OFPBMC_BAD_TAG', 'OFPBMC_BAD_DL_ADDR_MASK',
      'OFPBMC_BAD_NW_ADDR_MASK', 'OFPBMC_BAD_WILDCARDS', 'OFPBMC_BAD_FIELD', 'OFPBMC_BAD_VALUE',
      'OFPBMC_BAD_MASK', 'OFPBMC_BAD_PREREQ', 'OFPBMC_DUP_FIELD', 'OFPBMC_EPERM'],
  },
  [OFPET_FLOW_MOD_FAILED]: {
    type: 'OFPET_FLOW_MOD_FAILED',
    codes: ['OFPFMFC_UNKNOWN', 'OFPFMFC_TABLE_FULL', 'OFPFMFC_BAD_TABLE_ID', 'OFPFMFC_OVERLAP',
      'OFPFMFC_EPERM', 'OFPFMFC_BAD_TIMEOUT', 'OFPFMFC_BAD_COMMAND', 'OFPFMFC_BAD_FLAGS'],
  },
  [OFPET_GROUP_MOD_FAILED]: {
    type: 'OFPET_GROUP_MOD_FAILED',
    codes: ['OFPGMFC_GROUP_EXISTS', 'OFPGMFC_INVALID_GROUP', 'OFPGMFC_WEIGHT_UNSUPPORTED',
      'OFPGMFC_OUT_OF_GROUPS', 'OFPGMFC_OUT_OF_BUCKETS', 'OFPGMFC_CHAINING_UNSUPPORTED',
      'OFPGMFC_WATCH_UNSUPPORTED', 'OFPGMFC_LOOP', 'OFPGMFC_UNKNOWN_GROUP', 'OFPGMFC_CHAINED_GROUP',
      'OFPGMFC_BAD_TYPE', 'OFPGMFC_BAD_COMMAND', 'OFPGMFC_BAD_BUCKET', 'OFPGMFC_BAD_WATCH', 'OFPGMFC_EPERM'],
  },
  [OFPET_PORT_MOD_FAILED]: {
    type: 'OFPET_PORT_MOD_FAILED',
    codes: ['OFPPMFC_BAD_PORT', 'OFPPMFC_BAD_HW_ADDR', 'OFPPMFC_BAD_CONFIG', 'OFPPMFC_BAD_ADVERTISE',
      'OFPPMFC_EPERM'],
  },
  [OFPET_TABLE_MOD_FAILED]: {
    type: 'OFPET_TABLE_MOD_FAILED', codes: ['OFPTMFC_BAD_TABLE', 'OFPTMFC_BAD_CONFIG', 'OFPTMFC_EPERM'],
  },
  [OFPET_QUEUE_OP_FAILED]: {
    type: 'OFPET_QUEUE_OP_FAILED', codes: ['OFPQOFC_BAD_PORT', 'OFPQOFC_BAD_QUEUE', 'OFPQOFC_EPERM'],
  },
  [OFPET_SWITCH_CONFIG_FAILED]: {
    type: 'OFPET_SWITCH_CONFIG_FAILED', codes: ['OFPSCFC_BAD_FLAGS', 'OFPSCFC_BAD_LEN', 'OFPSCFC_EPERM'],
  },
  [OFPET_ROLE_REQUEST_FAILED]: {
    type: 'OFPET_ROLE_REQUEST_FAILED', codes: ['OFPRRFC_STALE', 'OFPRRFC_UNSUP', 'OFPRRFC_BAD_ROLE'],
  },
  [OFPET_METER_MOD_FAILED]: {
    type: 'OFPET_METER_MOD_FAILED',
    codes: ['OFPMMFC_UNKNOWN', 'OFPMMFC_METER_EXISTS', 'OFPMMFC_INVALID_METER', 'OFPMMFC_UNKNOWN_METER',
      'OFPMMFC_BAD_COMMAND', 'OFPMMFC_BAD_FLAGS', 'OFPMMFC_BAD_RATE', 'OFPMMFC_BAD_BURST', 'OFPMMFC_BAD_BAND',
      'OFPMMFC_BAD_BAND_VALUE', 'OFPMMFC_OUT_OF_METERS', 'OFPMMFC_OUT_OF_BANDS'],
  },
  [OFPET_TABLE_FEATURES_FAILED]: {
    type: 'OFPET_TABLE_FEATURES_FAILED',
    codes: ['OFPTFFC_BAD_TABLE', 'OFPTFFC_BAD_METADATA', 'OFPTFFC_BAD_TYPE', 'OFPTFFC_BAD_LEN',
      'OFPTFFC_BAD_ARGUMENT', 'OFPTFFC_EPERM'],
  },
};

/** "OFPET_BAD_MATCH/OFPBMC_BAD_PREREQ", or numbers where the pair has no spec name. */
export function errorName(type: number, code: number): string {
  const entry = ERROR_NAMES[type];
  if (!entry) return `type ${type}/code ${code}`;
  return `${entry.type}/${entry.codes[code] ?? `code ${code}`}`;
}

/**
 * An OpenFlow error to answer a request with: its type and code, a detail for logs, and
 * for experimenter errors (type OFPET_EXPERIMENTER) the experimenter id.
 */
export class OfpError extends Error {
  override name = 'OfpError';
  constructor(
    readonly errType: number,
    readonly errCode: number,
    readonly detail: string,
    readonly experimenter?: number,
  ) {
    super(`${errorName(errType, errCode)}: ${detail}`);
  }
}

/** A malformed or unacceptable message, found while decoding it. */
export class OfpDecodeError extends OfpError {
  override name = 'OfpDecodeError';
}

/** A message object that cannot be put on the wire (too long, value out of range, ...). */
export class OfpEncodeError extends Error {
  override readonly name = 'OfpEncodeError';
}
