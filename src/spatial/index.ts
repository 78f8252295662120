/** The spatial view (DESIGN 1.3) and the three-view training of SATC (DESIGN 1.4). */
export { buildPatchGraph, graphMasks } from "./graph.js";
export type { PatchGraph, PatchGraphOptions, PatchNodes } from "./graph.js";
export { fitChannelReduction, applyChannelReduction, reducedNodes } from "./reduce.js";
export type { ChannelReduction, ReductionMethod, ReductionOptions } from "./reduce.js";
export { SpatialEncoder, spatialEncoderNames, buildEncoderGraph, initEncoderParams } from "./encoders.js";
export type { SpatialEncoderName, SpatialEncoderConfig, SpatialEncoderOptions } from "./encoders.js";
export { trainSatc, predictSatc, releaseSatc, poolNodes, spatialVariants } from "./method.js";
export type { SatcInputs, SatcOptions, SatcModel, SatcResult, SatcProgress, SpatialVariant } from "./method.js";
export { runAblation, formatAblation, meanStd } from "./ablate.js";
export type { AblationOptions, AblationResult, AblationRun, AblationSummary } from "./ablate.js";
