/**
 * Figures printed in the paper (Liu et al., "A ConvNet for the 2020s", CVPR 2022, arXiv:2201.03545v2),
 * for the "paper" columns beside our measurements.
 */

export interface Table1Row {
  model: string;
  /** Input resolution (square). */
  size: number;
  /** The part of Table 1 the row is printed in. */
  section: 'IN-1K' | 'IN-22K';
  /** "#param." in millions, as printed (rounded). */
  paramsM: number;
  /** "FLOPs" in G, as printed: multiply-accumulates counted by fvcore. */
  gflops: number;
  /** Inference throughput on one V100 GPU (image/s). */
  throughput: number;
  /** ImageNet-1K top-1 accuracy (%). */
  top1: number;
}

/** The ConvNeXt rows of Table 1, ImageNet-1K trained (upper part) and ImageNet-22K pre-trained (lower). */
export const PAPER_TABLE1: readonly Table1Row[] = [
  { model: 'convnext_tiny', size: 224, section: 'IN-1K', paramsM: 29, gflops: 4.5, throughput: 774.7, top1: 82.1 },
  { model: 'convnext_small', size: 224, section: 'IN-1K', paramsM: 50, gflops: 8.7, throughput: 447.1, top1: 83.1 },
  { model: 'convnext_base', size: 224, section: 'IN-1K', paramsM: 89, gflops: 15.4, throughput: 292.1, top1: 83.8 },
  { model: 'convnext_base', size: 384, section: 'IN-1K', paramsM: 89, gflops: 45.0, throughput: 95.7, top1: 85.1 },
  { model: 'convnext_large', size: 224, section: 'IN-1K', paramsM: 198, gflops: 34.4, throughput: 146.8, top1: 84.3 },
  { model: 'convnext_large', size: 384, section: 'IN-1K', paramsM: 198, gflops: 101.0, throughput: 50.4, top1: 85.5 },
  { model: 'convnext_tiny', size: 224, section: 'IN-22K', paramsM: 29, gflops: 4.5, throughput: 774.7, top1: 82.9 },
  { model: 'convnext_tiny', size: 384, section: 'IN-22K', paramsM: 29, gflops: 13.1, throughput: 282.8, top1: 84.1 },
  { model: 'convnext_small', size: 224, section: 'IN-22K', paramsM: 50, gflops: 8.7, throughput: 447.1, top1: 84.6 },
  { model: 'convnext_small', size: 384, section: 'IN-22K', paramsM: 50, gflops: 25.5, throughput: 163.5, top1: 85.8 },
  { model: 'convnext_base', size: 224, section: 'IN-22K', paramsM: 89, gflops: 15.4, throughput: 292.1, top1: 85.8 },
  { model: 'convnext_base', size: 384, section: 'IN-22K', paramsM: 89, gflops: 45.1, throughput: 95.7, top1: 86.8 },
  { model: 'convnext_large', size: 224, section: 'IN-22K', paramsM: 198, gflops: 34.4, throughput: 146.8, top1: 86.6 },
  { model: 'convnext_large', size: 384, section: 'IN-22K', paramsM: 198, gflops: 101.0, throughput: 50.4, top1: 87.5 },
  { model: 'convnext_xlarge', size: 224, section: 'IN-22K', paramsM: 350, gflops: 60.9, throughput: 89.3, top1: 87.0 },
  { model: 'convnext_xlarge', size: 384, section: 'IN-22K', paramsM: 350, gflops: 179.0, throughput: 30.2, top1: 87.8 },
];

/** The paper's row for a model and resolution, from the ImageNet-1K part where it has one. */
export function paperRow(model: string, size: number): Table1Row | undefined {
  const rows = PAPER_TABLE1.filter((r) => r.model === model && r.size === size);
  return rows.find((r) => r.section === 'IN-1K') ?? rows[0];
}

/** Section 3's configurations: widths C and blocks per stage B of the paper's five variants. */
export const PAPER_VARIANTS: Readonly<Record<string, { dims: number[]; depths: number[] }>> = {
  convnext_tiny: { dims: [96, 192, 384, 768], depths: [3, 3, 9, 3] },
  convnext_small: { dims: [96, 192, 384, 768], depths: [3, 3, 27, 3] },
  convnext_base: { dims: [128, 256, 512, 1024], depths: [3, 3, 27, 3] },
  convnext_large: { dims: [192, 384, 768, 1536], depths: [3, 3, 27, 3] },
  convnext_xlarge: { dims: [256, 512, 1024, 2048], depths: [3, 3, 27, 3] },
};
