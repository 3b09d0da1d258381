package io.xdyna.encoder.audio;

/**
 * Decoded audio: {@code samples} interleaved 32-bit float in [-1,1], {@code channels} per sample
 * frame at {@code sampleRate}.
 */
public record AudioClip(float[] samples, int sampleRate, int channels) {
    public AudioClip {
        if (sampleRate <= 0 || channels <= 0 || samples.length % channels != 0) {
            throw new IllegalArgumentException("bad audio clip: " + samples.length + " samples, " + channels
                    + " channels, " + sampleRate + " Hz");
        }
    }

    /** Sample frames (one value per channel each). */
    public int frames() {
        return samples.length / channels;
    }

    public double seconds() {
        return (double) frames() / sampleRate;
    }
}
