/*
 * The OpenFlow 1.3 wire codec: the public surface of protocol/.
 *
 * decodeMessage(bytes) -> typed message or typed error; encodeMessage(message) -> bytes;
 * OfpFramer cuts a stream into messages; splitMultipart / MultipartAssembler handle
 * REQ_MORE / REPLY_MORE sequences. Pure: no I/O, no imports from lib/.
 */
export * from './constants.ts';
export * from './errors.ts';
export type { Action, ActionType } from './actions.ts';
export { ACTION_TYPE_CODES, actionTypeName } from './actions.ts';
export type { Instruction, InstructionType } from './instructions.ts';
export { INSTRUCTION_TYPE_CODES, instructionTypeName } from './instructions.ts';
export type { BasicOxm, Match, OpaqueOxm, OxmField, OxmFieldName, OxmFieldSpec, OxmValueTypes, PrereqState } from './oxm.ts';
export {
  OXM_FIELDS, OFPXMC_EXPERIMENTER, OFPXMC_NXM_0, OFPXMC_NXM_1, OFPXMC_OPENFLOW_BASIC, OFPXMC_PACKET_REGS,
  basicOxmHeader, oxmFieldSpec, oxmHeader, oxmValueBytes, oxmValueFromBytes,
} from './oxm.ts';
export type {
  Bucket, FeatureId, MeterBand, OxmId, PacketQueue, Port, QueueProperty, TableFeatureProperty,
  TableFeaturePropertyType, TableFeatures,
} from './structs.ts';
export { TABLE_FEATURE_PROPERTY_CODES } from './structs.ts';
export type {
  FlowStats, GroupDesc, GroupStats, MeterConfig, MeterStats, MultipartReplyBody, MultipartRequestBody,
  MultipartType, PortStats, QueueStats, TableStats,
} from './multipart.ts';
export { encodeFlowStats, MULTIPART_TYPE_CODES, multipartTypeName } from './multipart.ts';
export * from './messages.ts';
export { OfpFramer, OfpFramingError } from './framer.ts';
export { encodeMultipartReply, MultipartAssembler, MultipartReplyWriter, splitMultipart } from './multipart-split.ts';
export { formatIpv4, formatIpv6, formatMac } from './addresses.ts';
