package io.xdyna.pose.dwpose;

import ai.djl.Device;
import ai.djl.MalformedModelException;
import ai.djl.inference.Predictor;
import ai.djl.Model;
import ai.djl.translate.TranslateException;
import io.xdyna.contract.job.ErrorCode;
import io.xdyna.contract.job.JobFailure;
import io.xdyna.pose.image.RgbImage;
import io.xdyna.pose.skeleton.PersonPose;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtProvider;
import ai.onnxruntime.OrtSession;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
 * <p>Throughput ({@link Options}): ONNX Runtime's intra-op threads are set explicitly (default: every core
 * the JVM sees); when a network's exported input has a dynamic batch axis, {@link #mainPersons} runs the
 * crops (and detections) of several frames as one {@code [N,...]} call; the CUDA execution provider is
 * used when ONNX Runtime has it (the {@code onnxruntime_gpu} jar, Maven profile {@code cuda}) and a GPU is
 * present.
 *
 * <p>Not thread-safe (one predictor per model): use one instance per worker thread.
 */
public final class DwPose implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(DwPose.class);

    /**
     * How the networks run.
     *
     * @param threads ONNX Runtime intra-op threads per network call (0 = ONNX Runtime's own default)
     * @param batch at most this many frames per network call ({@code XDYNA_POSE_BATCH}); 1 = one call per
     *     frame, as before; larger values take effect only for a network whose input has a dynamic batch axis
     * @param device {@code auto} (CUDA when ONNX Runtime has the CUDA provider and a GPU is there, else the
     *     CPU), {@code cpu}, or {@code cuda} (fails at load when CUDA is not available)
     * @param spin let ONNX Runtime's idle intra-op threads spin waiting for work (its default); off, they
     *     sleep, which on a busy or shared machine leaves the cores to the threads that have work
     */
    public record Options(int threads, int batch, String device, boolean spin) {
        public Options(int threads, int batch, String device) {
            this(threads, batch, device, true);
        }

        public Options {
            if (threads < 0 || batch < 1) {
                throw new IllegalArgumentException("threads must be >= 0 and batch >= 1, got " + threads + ", " + batch);
            }
            device = device.toLowerCase(Locale.ROOT);
            if (!List.of("auto", "cpu", "cuda").contains(device)) {
                throw new IllegalArgumentException("device must be auto, cpu or cuda, got " + device);
            }
        }

        /** One call per frame and picture, ONNX Runtime's own thread default, the CPU: the behaviour before options. */
        public static Options legacy() {
            return new Options(0, 1, "cpu");
        }

        /** Every core, batches of 8, CUDA when present, no spinning. */
        public static Options defaults() {
            return new Options(Runtime.getRuntime().availableProcessors(), 8, "auto", false);
        }
    }

    private final PoseBundle bundle;
    private final Model detectorModel;
    private final Model poseModel;
    private final List<OrtSession.SessionOptions> sessionOptions;
    private final Predictor<List<RgbImage>, List<Box[]>> detector;
    private final Predictor<List<PoseTranslator.Request>, List<WholeBody>> pose;
    private final int detectorBatch;
    private final int poseBatch;
    private final String device;

    private DwPose(PoseBundle bundle, Model detectorModel, Model poseModel, List<OrtSession.SessionOptions> sessionOptions,
            int batch, String device) {
        this.bundle = bundle;
        this.detectorModel = detectorModel;
        this.poseModel = poseModel;
        this.sessionOptions = sessionOptions;
        this.detector = detectorModel.newPredictor(new DetectorTranslator(bundle.detectorSize()[0]));
        this.pose = poseModel.newPredictor(new PoseTranslator(bundle.poseSize()[0], bundle.poseSize()[1],
                bundle.simccSplitRatio()));
        this.detectorBatch = dynamicBatch(detectorModel) ? batch : 1;
        this.poseBatch = dynamicBatch(poseModel) ? batch : 1;
        this.device = device;
    }

    /** As {@link #load(PoseBundle, Options)} with {@link Options#legacy()}. */
    public static DwPose load(PoseBundle bundle) {
        return load(bundle, Options.legacy());
    }

    /**
     * Loads both networks of a validated bundle and runs each once on a blank picture, which checks
     * their input and output shapes against the contract and warms the runtime up.
     */
    public static DwPose load(PoseBundle bundle, Options options) {
        Device dev = device(options.device());
        Model det = null;
        Model p = null;
        List<OrtSession.SessionOptions> so = new ArrayList<>();
        try {
            det = load("detector", bundle.detector(), dev, options, so);
            p = load("pose", bundle.pose(), dev, options, so);
        } catch (MalformedModelException | IOException | OrtException | RuntimeException e) {
            closeAll(det, p);
            so.forEach(OrtSession.SessionOptions::close);
            throw JobFailure.permanent(ErrorCode.MODEL_INVALID, "ONNX Runtime cannot load the pose bundle "
                    + bundle.dir() + ": " + e.getMessage() + "; " + PoseBundle.HELP, e);
        }
        DwPose d = new DwPose(bundle, det, p, so, options.batch(), dev.isGpu() ? "cuda" : "cpu");
        try {
            d.selfTest();
            LOG.info("pose networks of {} on {} with {} ONNX Runtime threads{}; frames per call: detector {}, pose {}",
                    bundle.modelId(), d.device, options.threads() == 0 ? "default" : options.threads(),
                    options.spin() ? "" : " (not spinning)", d.detectorBatch, d.poseBatch);
            return d;
        } catch (RuntimeException e) {
            d.close();
            throw e;
        }
    }

    /**
     * One network on DJL's ONNX Runtime engine, with session options made here (DJL's own string options
     * set the intra-op count only together with the inter-op count, and have no config entries).
     */
    private static Model load(String name, java.nio.file.Path file, Device dev, Options options,
            List<OrtSession.SessionOptions> made) throws IOException, MalformedModelException, OrtException {
        OrtSession.SessionOptions so = new OrtSession.SessionOptions();
        made.add(so);
        if (options.threads() > 0) {
            so.setIntraOpNumThreads(options.threads());
            // one network call at a time (sequential execution): one inter-op thread
            so.setInterOpNumThreads(1);
        }
        if (!options.spin()) {
            so.addConfigEntry("session.intra_op.allow_spinning", "0");
            so.addConfigEntry("session.inter_op.allow_spinning", "0");
        }
        Model m = Model.newInstance(name, dev, "OnnxRuntime");
        try {
            m.load(file, null, Map.of("sessionOptions", so));
            return m;
        } catch (IOException | MalformedModelException | RuntimeException e) {
            m.close();
            throw e;
        }
    }

    /** The device the networks run on: CUDA when asked or (auto) when ONNX Runtime has the provider and a GPU is there. */
    static Device device(String wanted) {
        if (wanted.equals("cpu")) {
            return Device.cpu();
        }
        boolean provider;
        try {
            provider = OrtEnvironment.getAvailableProviders().contains(OrtProvider.CUDA);
        } catch (RuntimeException | LinkageError e) {
            provider = false;
        }
        if (wanted.equals("cuda")) {
            if (!provider) {
                throw JobFailure.permanent(ErrorCode.MODEL_INVALID, "XDYNA_POSE_DEVICE=cuda, but this ONNX Runtime has"
                        + " no CUDA provider: build with the Maven profile cuda (onnxruntime_gpu) on a CUDA host");
            }
            return Device.gpu();
        }
        return provider && ai.djl.util.cuda.CudaUtils.getGpuCount() > 0 ? Device.gpu() : Device.cpu();
    }

    /**
     * Whether a network's first input has a dynamic batch axis (ONNX Runtime reports it as -1). DJL's
     * {@code describeInput} gives names without shapes, so the shape is read from the ONNX Runtime session
     * DJL holds; when that cannot be read, the answer is no (one frame per call, always correct).
     */
    private static boolean dynamicBatch(Model model) {
        try {
            Object block = model.getBlock();
            java.lang.reflect.Field f = block.getClass().getDeclaredField("session");
            f.setAccessible(true);
            ai.onnxruntime.OrtSession session = (ai.onnxruntime.OrtSession) f.get(block);
            ai.onnxruntime.NodeInfo first = session.getInputInfo().values().iterator().next();
            if (first.getInfo() instanceof ai.onnxruntime.TensorInfo t) {
                long[] shape = t.getShape();
                return shape.length > 0 && shape[0] < 0;
            }
            return false;
        } catch (ReflectiveOperationException | RuntimeException | OrtException e) {
            LOG.debug("cannot read the input shape of {}: {}", model.getName(), e.toString());
            return false;
        }
    }

    private void selfTest() {
        RgbImage blank = RgbImage.black(64, 64);
        try {
            detector.predict(List.of(blank));
        } catch (TranslateException | RuntimeException e) {
            throw JobFailure.permanent(ErrorCode.MODEL_INVALID, "the detector network of " + bundle.dir()
                    + " does not fit the contract (input [1,3,640,640], output [1,8400,85]): " + rootMessage(e) + "; "
                    + PoseBundle.HELP, e);
        }
        try {
            pose.predict(List.of(new PoseTranslator.Request(blank, new Box(8, 8, 56, 56, 1))));
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

    /** The device the networks run on: "cpu" or "cuda". */
    public String device() {
        return device;
    }

    /** Frames per detector call (1 unless the detector has a dynamic batch axis and a batch was asked for). */
    public int detectorBatch() {
        return detectorBatch;
    }

    /** Crops per pose-network call (1 unless the pose network has a dynamic batch axis and a batch was asked for). */
    public int poseBatch() {
        return poseBatch;
    }

    /** Person boxes in the picture's pixels, best first (empty when nobody is there). */
    public List<Box> detect(RgbImage image) {
        return List.of(detect(List.of(image)).get(0));
    }

    /** {@link #detect(RgbImage)} of each picture, {@link #detectorBatch()} pictures per network call. */
    public List<Box[]> detect(List<RgbImage> images) {
        List<Box[]> out = new ArrayList<>(images.size());
        try {
            for (int from = 0; from < images.size(); from += detectorBatch) {
                out.addAll(detector.predict(images.subList(from, Math.min(images.size(), from + detectorBatch))));
            }
        } catch (TranslateException e) {
            throw JobFailure.permanent(ErrorCode.INFERENCE_FAILED, "the person detector failed: " + e.getMessage(), e);
        }
        return out;
    }

    /** The 133 whole-body keypoints of the person in {@code box}. */
    public WholeBody estimate(RgbImage image, Box box) {
        return estimate(List.of(image), List.of(box)).get(0);
    }

    /** {@link #estimate(RgbImage, Box)} of each picture and box, {@link #poseBatch()} crops per network call. */
    public List<WholeBody> estimate(List<RgbImage> images, List<Box> boxes) {
        List<PoseTranslator.Request> requests = new ArrayList<>(images.size());
        for (int i = 0; i < images.size(); i++) {
            requests.add(new PoseTranslator.Request(images.get(i), boxes.get(i)));
        }
        List<WholeBody> out = new ArrayList<>(images.size());
        try {
            for (int from = 0; from < requests.size(); from += poseBatch) {
                out.addAll(pose.predict(requests.subList(from, Math.min(requests.size(), from + poseBatch))));
            }
        } catch (TranslateException e) {
            throw JobFailure.permanent(ErrorCode.INFERENCE_FAILED, "the pose network failed: " + e.getMessage(), e);
        }
        return out;
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

    /**
     * {@link #mainPerson(RgbImage, PersonTracker, boolean)} for consecutive frames of one clip, with the
     * network calls batched ({@link #detectorBatch()}, {@link #poseBatch()}).
     *
     * <p>The frames to detect ({@code detect[j]}) are detected first, together; each frame's box is then
     * picked in order as on its own. A frame that takes its box from a pose ({@code detect[j]} false) takes
     * it from the most recent pose <em>already estimated</em>: the crops waiting for the pose network are
     * estimated first only when one of them is a detected frame (so a tracked frame never uses a box older
     * than its interval's detection). So when every frame is detected (k = 1) the result is exactly
     * {@code mainPerson} frame by frame; with tracked frames and a pose batch above 1, the tracked frames of
     * one detection interval take the box of the pose of the interval's detected frame (or of a later
     * frame when the interval is longer than the batch), not of the frame just before them, as
     * docs/pose-conditions.md ("Detection interval") describes. With a pose batch of 1 it is exactly
     * {@code mainPerson} frame by frame, for any {@code detect}.
     */
    public List<Person> mainPersons(List<RgbImage> images, PersonTracker tracker, boolean[] detect) {
        int n = images.size();
        List<RgbImage> toDetect = new ArrayList<>();
        for (int j = 0; j < n; j++) {
            if (detect[j]) {
                toDetect.add(images.get(j));
            }
        }
        List<Box[]> found = detect(toDetect);
        Person[] out = new Person[n];
        List<Integer> pending = new ArrayList<>();
        List<Box> pendingBoxes = new ArrayList<>();
        boolean pendingDetected = false;
        int nextFound = 0;
        for (int j = 0; j < n; j++) {
            RgbImage image = images.get(j);
            Box box;
            if (detect[j]) {
                box = tracker.select(Arrays.asList(found.get(nextFound++)));
            } else {
                if (pendingDetected) {
                    flush(images, pending, pendingBoxes, tracker, out);
                    pendingDetected = false;
                }
                box = tracker.poseBox();
                if (box == null) {
                    box = tracker.select(detect(image));
                }
            }
            if (box == null) {
                flush(images, pending, pendingBoxes, tracker, out);
                pendingDetected = false;
                tracker.lost();
                continue;
            }
            pending.add(j);
            pendingBoxes.add(box);
            pendingDetected |= detect[j];
            if (pending.size() >= poseBatch) {
                flush(images, pending, pendingBoxes, tracker, out);
                pendingDetected = false;
            }
        }
        flush(images, pending, pendingBoxes, tracker, out);
        return Arrays.asList(out);
    }

    private void flush(List<RgbImage> images, List<Integer> pending, List<Box> boxes, PersonTracker tracker,
            Person[] out) {
        if (pending.isEmpty()) {
            return;
        }
        List<RgbImage> crops = new ArrayList<>(pending.size());
        for (int j : pending) {
            crops.add(images.get(j));
        }
        List<WholeBody> poses = estimate(crops, boxes);
        for (int i = 0; i < pending.size(); i++) {
            RgbImage image = crops.get(i);
            WholeBody wb = poses.get(i);
            tracker.observePose(wb, image.width(), image.height());
            out[pending.get(i)] = new Person(boxes.get(i), wb, wb.toPersonPose(image.width(), image.height()));
        }
        pending.clear();
        boxes.clear();
    }

    @Override
    public void close() {
        detector.close();
        pose.close();
        detectorModel.close();
        poseModel.close();
        sessionOptions.forEach(OrtSession.SessionOptions::close);
    }
}
