/**
 * @zerograd/nn — layers, models, optimizers, fit(), and weights in the safetensors format.
 * Runs anywhere JavaScript does; file helpers live in `@zerograd/nn/node`, ONNX export in
 * `@zerograd/nn/onnx` (apart from training, as torch.onnx is: a model that only trains does not
 * carry the exporter).
 */
export { Module, Parameter, StateBuffer, StateDictError, functionalCall, type AnyModule, type LoadStateDictOptions, type StateDict, type StateValue } from "./module.js";
export * as init from "./init.js";
export { manualSeed, defaultGenerator, type Initializer, type InitializerName, type InitContext } from "./init.js";
export { ReLU, LeakyReLU, ELU, GELU, Sigmoid, Tanh, Softmax, type Activation, type ActivationName } from "./layers/activations.js";
export { Dense, Flatten, Dropout, Embedding, type DenseOptions, type DropoutOptions, type EmbeddingOptions, type WeightOptions } from "./layers/core.js";
export { Conv2D, MaxPool2D, AvgPool2D, GlobalAveragePooling, type Conv2DOptions, type PoolOptions } from "./layers/conv.js";
export { BatchNormalization, LayerNormalization, type BatchNormalizationOptions, type LayerNormalizationOptions } from "./layers/normalization.js";
export { Sequential, MultiHead, Functional, type Layer } from "./containers.js";
export { GRU, LSTM, Bidirectional, type RecurrentOptions, type RecurrentState, type RecurrentOutput, type RecurrentCallOptions } from "./layers/recurrent.js";
export { Conv1D, type Conv1DOptions } from "./layers/conv1d.js";
export { GlobalAveragePooling1D, GlobalMaxPooling1D, maskedMean, maskedMax } from "./layers/sequence-pooling.js";
export { MultiHeadAttention, TransformerEncoderLayer, maskedSoftmax, perStep, type AttentionCallOptions, type MultiHeadAttentionOptions, type TransformerEncoderLayerOptions } from "./layers/attention.js";
export { SinusoidalPositionalEncoding, PositionalEmbedding, sinusoidalTable } from "./layers/positional.js";
export { maskOf, withMask, toMask, maskFromLengths, type MaskInput, type MaskArg, type MaskingLayer } from "./sequence/mask.js";
export { padSequences, type PadOptions } from "./sequence/pad.js";
export { Vocabulary, PAD_ID, UNKNOWN_ID } from "./sequence/vocabulary.js";
export { Optimizer, type OptimizerState, type NonFinitePolicy, type ParameterList, type GradientView } from "./optim/optimizer.js";
export { SGD, Adam, AdamW, RMSprop, type SGDOptions, type AdamOptions, type RMSpropOptions } from "./optim/optimizers.js";
export { clipGradNorm, clipGradValue } from "./optim/clip.js";
export { type Schedule, constantLr, stepDecay, exponentialDecay, cosineDecay, linearWarmup } from "./optim/schedules.js";
export * from "./safetensors.js";
export * from "./progress.js";
export { fit, evaluate, predict, type FitOptions, type EvaluateOptions, type PredictOptions } from "./train/fit.js";
export { trainStep, type Losses, type StepResult } from "./train/step.js";
export { type TrainStepOptions, type AbortSignalLike } from "./train/options.js";
export { type Data, type Inputs, type ArrayInput, type FlatArray } from "./train/data.js";
export { type CompileOptions, type LossSpec, type MetricSpec, type MetricFn, type GroupWeights } from "./train/spec.js";
export {
  type Callback,
  type TrainingContext,
  type History,
  type Logs,
  earlyStopping,
  modelCheckpoint,
  learningRateScheduler,
  groupReweighting,
  type EarlyStoppingOptions,
  type ModelCheckpointOptions,
  type GroupReweightingOptions,
  type LearningRateSchedulerOptions,
} from "./train/callbacks.js";
export { encodeWeights, loadWeights, weightsAsTensors, encodeCheckpoint, decodeCheckpoint, type TrainingCheckpoint, type CallbackState, type WeightsLayout, type WeightsOptions } from "./serialize.js";
