/** What the ViT and Swin configs share (timm's argument names): patch embedding, MLP width, stochastic depth, head. */
export interface TransformerConfigBase {
  /** Image size the model is planned for: the position embedding (ViT) or the windows (Swin). Default 224. */
  imgSize?: number;
  /** Patch size of the embedding (ViT 16, Swin 4). */
  patchSize?: number;
  inChans?: number;
  numClasses?: number;
  /** Token width (Swin: of the first stage; stage i has embedDim·2^i). */
  embedDim: number;
  /** MLP hidden width as a multiple of the token width (4). */
  mlpRatio?: number;
  /** Stochastic depth rate of the last block; rates rise linearly from 0 over the blocks. */
  dropPathRate?: number;
  /** Scales the head's initial weights and bias. */
  headInitScale?: number;
}

/** The config without its undefined entries, so that `{ numClasses: undefined }` keeps the default. */
export function definedOnly<T extends object>(config: T): T {
  return Object.fromEntries(Object.entries(config).filter(([, v]) => v !== undefined)) as T;
}
