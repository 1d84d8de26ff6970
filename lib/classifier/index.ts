/* Public surface of lib/classifier: flow keys and masks, and the tuple-space-search classifier. */
export { Classifier, type ClassifierRule, maskIndices, valueFromBucketKey, wireMatchOfBucket } from './classifier.ts';
export {
  coversFilter, FIELD_SLOTS, fieldSlot, FLOW_KEY_BYTES, type FieldSlot, keyMatches, type MaskedKey, maskedKeyFromWire,
  matchToMaskedKey, maskedKeyToMatch, maskedKeyToWireMatch, overlaps, sameMaskedKey,
} from './flow-key.ts';
