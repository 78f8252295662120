/** The learning core: clustering heads trained by neighbour-based mutual distillation (DESIGN 1.4). */
export { trainHeads, predictWithHeads } from "./trainer.js";
export type { View, ViewEncoder, TrainOptions, TrainProgress, TrainResult, EpochRecord, HeadsModel } from "./trainer.js";
export { initHead, cloneHead, headProbabilities, TRAINABLE } from "./head.js";
export type { HeadParams, TrainableName } from "./head.js";
export { TrainingStep } from "./step.js";
export type { TrainingStepOptions, StepResult } from "./step.js";
export { buildStepGraph } from "./step-graph.js";
export { TAC_ADAM } from "./reference.js";
export type { AdamOptions, LossSettings } from "./reference.js";
