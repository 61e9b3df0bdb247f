import { MODEL_NAMES, MODELS } from '../../unified/models.js';
import type { SupportedFields } from '../definition.js';

/** Provisional: every unified field of every model (narrowed per model in the next commit). */
export const DYNAMICS_SUPPORTED_FIELDS: SupportedFields = Object.fromEntries(
  MODEL_NAMES.map((model) => [model, Object.keys(MODELS[model].columns)]),
);
