package io.xdyna.bench.animator;

import io.xdyna.animator.model.AnimatorModels;
import io.xdyna.animator.model.Network;
import io.xdyna.animator.pipeline.AnimationRequest;
import io.xdyna.animator.pipeline.RgbImage;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** What both animator benchmarks share: the synthetic job they time and the networks' call counters. */
final class AnimatorBenchSupport {
    private AnimatorBenchSupport() {
    }

    /** One network's counters at a moment: calls, time inside them, frames evaluated. */
    record NetworkCounters(long calls, long nanos, long frames) {
        NetworkCounters minus(NetworkCounters before) {
            return new NetworkCounters(calls - before.calls, nanos - before.nanos, frames - before.frames);
        }

        double seconds() {
            return nanos / 1e9;
        }
    }

    /** Every network's counters now, by role, in the bundle's order. */
    static Map<String, NetworkCounters> networkCounters(AnimatorModels models) {
        Map<String, NetworkCounters> m = new LinkedHashMap<>();
        for (Network n : models.networks().values()) {
            m.put(n.role(), new NetworkCounters(n.calls(), n.nanos(), n.frames()));
        }
        return m;
    }

    /**
     * A reference with structure and pose/face maps with a few lit pixels: enough for every network to
     * do its full work (face control on, prompt = negative prompt), with nothing to download or decode.
     */
    static AnimationRequest syntheticRequest(int w, int h, int frames, int steps) {
        List<RgbImage> pose = new ArrayList<>();
        List<RgbImage> face = new ArrayList<>();
        byte[] ref = new byte[w * h * 3];
        for (int i = 0; i < ref.length; i++) {
            ref[i] = (byte) (i * 31 % 251);
        }
        for (int i = 0; i < frames; i++) {
            byte[] px = new byte[w * h * 3];
            for (int j = (i * 97) % 50; j < px.length; j += 50) {
                px[j] = (byte) 255;
            }
            pose.add(new RgbImage(w, h, px));
            face.add(new RgbImage(w, h, px));
        }
        return new AnimationRequest(w, h, steps, 7.5, 1, "", "", true, new RgbImage(w, h, ref), pose, face, face);
    }
}
