/**
 * The pixel currency of the input pipeline: Uint8 HWC RGB images, the layout sharp decodes to and the
 * augmentations work on. A sample is an image with its label; the loader turns samples into float32 NHWC.
 */

export interface RgbImage {
  image: Uint8Array;
  height: number;
  width: number;
  channels: 3;
}

export interface Sample {
  /** Uint8 RGB pixels, row-major HWC, length height * width * 3. */
  image: Uint8Array;
  height: number;
  width: number;
  channels: 3;
  /** Class index, or the regression target. */
  label: number;
  path?: string;
}
