/** Per-channel normalisation of x / 255, kept free of TensorFlow so transform workers can load it. */

export interface Normalization {
  mean: readonly [number, number, number];
  std: readonly [number, number, number];
}

/** torchvision / timm IMAGENET_DEFAULT_MEAN / STD (the paper's normalisation). */
export const IMAGENET_NORM: Normalization = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };
/** CIFAR-10 training-set channel statistics (optional; the paper's fine-tuning recipe keeps ImageNet's). */
export const CIFAR10_NORM: Normalization = { mean: [0.4914, 0.4822, 0.4465], std: [0.247, 0.2435, 0.2616] };
/** x / 255 only. */
export const NO_NORM: Normalization = { mean: [0, 0, 0], std: [1, 1, 1] };
