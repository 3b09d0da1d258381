package io.xdyna.pose.dwpose;

import ai.djl.MalformedModelException;
import ai.djl.inference.Predictor;
import ai.djl.repository.zoo.Criteria;
import ai.djl.repository.zoo.ModelNotFoundException;
import ai.djl.repository.zoo.ZooModel;
import ai.djl.translate.TranslateException;
import io.xdyna.contract.job.ErrorCode;
import io.xdyna.contract.job.JobFailure;
import io.xdyna.pose.image.RgbImage;
import io.xdyna.pose.skeleton.PersonPose;
import java.io.IOException;
import java.util.List;

/**
 * DWPose (YOLOX-L person detector + DWPose-L whole-body SimCC network) on DJL's ONNX Runtime engine.
 *
 * <p>Why ONNX Runtime and not TorchScript like the animator: DWPose's authors publish exactly these
 * two ONNX files ({@code yolox_l.onnx}, {@code dw-ll_ucoco_384.onnx}) and their reference
 * pipeline runs them with onnxruntime. Serving the official files unchanged means no re-export
 * through mmdet/mmpose (heavy, version-fragile toolchains), the same numbers as the reference, and
 * a small CPU-friendly runtime for two convolutional networks, so the pose extractor needs no
 * libtorch (PyTorch stays in the animator).
 *
 * <p>Not thread-safe (one predictor per model): use one instance per worker thread.
 */
public final class DwPose implements AutoCloseable {
    private final PoseBundle bundle;
    private final ZooModel<RgbImage, Box[]> detectorModel;
    private final ZooModel<PoseTranslator.Request, WholeBody> poseModel;
    private final Predictor<RgbImage, Box[]> detector;
    private final Predictor<PoseTranslator.Request, WholeBody> pose;

    private DwPose(PoseBundle bundle, ZooModel<RgbImage, Box[]> detectorModel,
            ZooModel<PoseTranslator.Request, WholeBody> poseModel) {
        this.bundle = bundle;
        this.detectorModel = detectorModel;
        this.poseModel = poseModel;
        this.detector = detectorModel.newPredictor();
        this.pose = poseModel.newPredictor();
    }

    /**
     * Loads both networks of a validated bundle and runs each once on a blank picture, which checks
     * their input and output shapes against the contract (ONNX Runtime does not report input shapes
     * through DJL) and warms the runtime up.
     */
    public static DwPose load(PoseBundle bundle) {
        int ds = bundle.detectorSize()[0];
        int pw = bundle.poseSize()[0];
        int ph = bundle.poseSize()[1];
        ZooModel<RgbImage, Box[]> det = null;
        ZooModel<PoseTranslator.Request, WholeBody> p = null;
        try {
            det = Criteria.builder().setTypes(RgbImage.class, Box[].class).optModelPath(bundle.detector())
                    .optEngine("OnnxRuntime").optTranslator(new DetectorTranslator(ds)).build().loadModel();
            p = Criteria.builder().setTypes(PoseTranslator.Request.class, WholeBody.class).optModelPath(bundle.pose())
                    .optEngine("OnnxRuntime").optTranslator(new PoseTranslator(pw, ph, bundle.simccSplitRatio()))
                    .build().loadModel();
        } catch (ModelNotFoundException | MalformedModelException | IOException | RuntimeException e) {
            closeAll(det, p);
            throw JobFailure.permanent(ErrorCode.MODEL_INVALID, "ONNX Runtime cannot load the pose bundle "
                    + bundle.dir() + ": " + e.getMessage() + "; " + PoseBundle.HELP, e);
        }
        DwPose d = new DwPose(bundle, det, p);
        try {
            d.selfTest();
            return d;
        } catch (RuntimeException e) {
            d.close();
            throw e;
        }
    }

    private void selfTest() {
        RgbImage blank = RgbImage.black(64, 64);
        try {
            detector.predict(blank);
        } catch (TranslateException | RuntimeException e) {
            throw JobFailure.permanent(ErrorCode.MODEL_INVALID, "the detector network of " + bundle.dir()
                    + " does not fit the contract (input [1,3,640,640], output [1,8400,85]): " + rootMessage(e) + "; "
                    + PoseBundle.HELP, e);
        }
        try {
            pose.predict(new PoseTranslator.Request(blank, new Box(8, 8, 56, 56, 1)));
        } catch (TranslateException | RuntimeException e) {
            throw JobFailure.permanent(ErrorCode.MODEL_INVALID, "the pose network of " + bundle.dir()
                    + " does not fit the contract (input [1,3,384,288], outputs simcc_x [1,133,576] and simcc_y"
                    + " [1,133,768]): " + rootMessage(e) + "; " + PoseBundle.HELP, e);
        }
    }

    private static String rootMessage(Throwable t) {
        Throwable c = t;
        while (c.getCause() != null && c.getCause() != c) {
            c = c.getCause();
        }
        String m = c.getMessage() == null ? c.toString() : c.getMessage();
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }

    private static void closeAll(AutoCloseable... all) {
        for (AutoCloseable c : all) {
            if (c != null) {
                try {
                    c.close();
                } catch (Exception ignored) {
                    // best effort
                }
            }
        }
    }

    public PoseBundle bundle() {
        return bundle;
    }

    /** Person boxes in the picture's pixels, best first (empty when nobody is there). */
    public List<Box> detect(RgbImage image) {
        try {
            return List.of(detector.predict(image));
        } catch (TranslateException e) {
            throw JobFailure.permanent(ErrorCode.INFERENCE_FAILED, "the person detector failed: " + e.getMessage(), e);
        }
    }

    /** The 133 whole-body keypoints of the person in {@code box}. */
    public WholeBody estimate(RgbImage image, Box box) {
        try {
            return pose.predict(new PoseTranslator.Request(image, box));
        } catch (TranslateException e) {
            throw JobFailure.permanent(ErrorCode.INFERENCE_FAILED, "the pose network failed: " + e.getMessage(), e);
        }
    }

    /** A person found in one picture: box, raw keypoints and DWPose's OpenPose arrangement (normalised). */
    public record Person(Box box, WholeBody wholeBody, PersonPose pose) {
    }

    /** Detects, lets {@code tracker} pick the main person, and estimates its pose; null when nobody is there. */
    public Person mainPerson(RgbImage image, PersonTracker tracker) {
        return mainPerson(image, tracker, true);
    }

    /**
     * As {@link #mainPerson(RgbImage, PersonTracker)}, but with {@code detect} false the person's box
     * is the one {@code tracker} took from the previous frame's pose (rtmlib's {@code det_frequency}),
     * which skips the detector, by far the larger network; it detects anyway when there is none.
     */
    public Person mainPerson(RgbImage image, PersonTracker tracker, boolean detect) {
        Box box = detect ? null : tracker.poseBox();
        if (box == null) {
            box = tracker.select(detect(image));
        }
        if (box == null) {
            tracker.lost();
            return null;
        }
        WholeBody wb = estimate(image, box);
        tracker.observePose(wb, image.width(), image.height());
        return new Person(box, wb, wb.toPersonPose(image.width(), image.height()));
    }

    @Override
    public void close() {
        detector.close();
        pose.close();
        detectorModel.close();
        poseModel.close();
    }
}
