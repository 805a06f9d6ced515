// The updater's one import for manifests: media types and the Accept list, list parsing and platform choice,
// the local image's digests, and the verdicts. Each lives in its own small module; this file only gathers them.
export {
  DOCKER_LIST, DOCKER_MANIFEST, MANIFEST_ACCEPT, MANIFEST_MEDIA_TYPES, OCI_INDEX, OCI_MANIFEST,
  bareMediaType, isImageManifest, isIndex, isIndexDocument,
} from './media-types.js';
export { availablePlatforms, indexEntries, pickPlatform, platformString } from './platform.js';
export type { IndexEntry } from './platform.js';
export { localDigestsOf } from './local-digests.js';
export { judgeHead, judgeManifest } from './judge.js';
export type { HeadVerdict, ManifestVerdict } from './judge.js';
