/** The study's hybrid: Squeeze-and-Excitation first, then CBAM on its output. */
import { tf } from '../backend';
import { FeatureShape, MacCounter, Module } from './module';
import { CBAM, CBAMOptions } from './cbam';
import { SqueezeExcite, SqueezeExciteOptions } from './squeeze-excite';

export class SECBAM extends Module {
  readonly se: SqueezeExcite;
  readonly cbam: CBAM;

  constructor(readonly channels: number, opts: { se?: SqueezeExciteOptions; cbam?: CBAMOptions } = {}) {
    super();
    this.se = this.registerModule('se', new SqueezeExcite(channels, opts.se));
    this.cbam = this.registerModule('cbam', new CBAM(channels, opts.cbam));
  }

  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => this.cbam.forward(this.se.forward(x)));
  }

  profile(input: FeatureShape, counter: MacCounter): FeatureShape {
    const s = counter.within('se', () => this.se.profile(input, counter));
    return counter.within('cbam', () => this.cbam.profile(s, counter));
  }
}
