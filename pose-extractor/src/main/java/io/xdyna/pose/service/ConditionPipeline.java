package io.xdyna.pose.service;

import io.xdyna.contract.job.ErrorCode;
import io.xdyna.contract.job.JobFailure;
import io.xdyna.contract.job.JobParams;
import io.xdyna.contract.storage.StorageLayout;
import io.xdyna.pose.align.AlignOptions;
import io.xdyna.pose.align.PoseAligner;
import io.xdyna.pose.align.PoseSmoother;
import io.xdyna.pose.draw.PoseRenderer;
import io.xdyna.pose.dwpose.DwPose;
import io.xdyna.pose.dwpose.PersonTracker;
import io.xdyna.pose.dwpose.WholeBody;
import io.xdyna.pose.face.FaceMaps;
import io.xdyna.pose.image.Crop2Ratio;
import io.xdyna.pose.image.Interpolation;
import io.xdyna.pose.image.RgbImage;
import io.xdyna.pose.media.ImageCodec;
import io.xdyna.pose.skeleton.PersonPose;
import io.xdyna.pose.video.FrameSelection;
import io.xdyna.pose.video.Mp4Writer;
import io.xdyna.pose.video.VideoDecoder;
import io.xdyna.pose.video.VideoInfo;
import io.xdyna.shared.image.ClipCrop;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Builds one job's X-Dyna conditions from local input files, independent of Kafka and S3:
 * <ol>
 * <li>reference: decoded by content, {@link Crop2Ratio#prepareReference} to W x H, stored as PNG;
 * DWPose must find a person in it (NO_PERSON otherwise);</li>
 * <li>driving video: the selected frames ({@link FrameSelection}: every {@code stride}-th, at most
 * {@code length}), each crop2ratio + INTER_LINEAR to W x H and stored as JPEG; DWPose on each (main
 * person tracked by overlap); with face control, S-Face maps from DWPose's 68 face landmarks
 * through one {@link FaceMaps} per clip;</li>
 * <li>poses: the DWPose skeletons, optionally retargeted to the reference body ({@code alignPose}),
 * drawn without head ({@code noHead}) at W x H; or, when a pre-rendered pose video is given, its
 * selected frames after crop2ratio + INTER_LINEAR (X-Dyna's own path for its published pose videos);</li>
 * <li>a pose preview MP4 at the output frame rate.</li>
 * </ol>
 * All objects go to deterministic keys ({@link StorageLayout}), so a redelivered job rewrites the same objects.
 */
public final class ConditionPipeline {
    /** A face counts as found when at least this many of DWPose's 68 face points pass its 0.3 threshold. */
    static final int MIN_FACE_POINTS = 34;
    static final int JPEG_QUALITY = 92;

    private final DwPose dwpose;
    private final int maxDecodeSide;
    private final boolean smooth;
    private final int detEvery;
    private final int decodeAhead;

    /**
     * @param smooth pass the (aligned) skeletons through {@link PoseSmoother} (off in the
     *     reference, which draws each frame's raw detection)
     */
    public ConditionPipeline(DwPose dwpose, int maxDecodeSide, boolean smooth) {
        this(dwpose, maxDecodeSide, smooth, 1);
    }

    /**
     * @param detEvery run the person detector on every {@code detEvery}-th frame only, taking the box
     *     from the previous frame's pose in between (rtmlib's {@code det_frequency}); 1 = every frame
     */
    public ConditionPipeline(DwPose dwpose, int maxDecodeSide, boolean smooth, int detEvery) {
        this(dwpose, maxDecodeSide, smooth, detEvery, 0);
    }

    /**
     * @param decodeAhead decode the driving video on a thread of its own, up to this many frames (cropped,
     *     resized and JPEG-encoded) ahead of the networks; 0 decodes on the calling thread between network
     *     calls, as before. The outputs are the same either way.
     */
    public ConditionPipeline(DwPose dwpose, int maxDecodeSide, boolean smooth, int detEvery, int decodeAhead) {
        if (detEvery < 1) {
            throw new IllegalArgumentException("detEvery must be at least 1, got " + detEvery);
        }
        if (decodeAhead < 0) {
            throw new IllegalArgumentException("decodeAhead must be at least 0, got " + decodeAhead);
        }
        this.detEvery = detEvery;
        this.decodeAhead = decodeAhead;
        this.dwpose = dwpose;
        this.maxDecodeSide = maxDecodeSide;
        this.smooth = smooth;
    }

    /** Progress of the extraction, in [0,1]. */
    @FunctionalInterface
    public interface Progress {
        void report(double fraction, String message);
    }

    /** What the conditions are: the fields of ConditionsReady. */
    public record Summary(int frameCount, int width, int height, double sourceFps, boolean faceMaps) {
    }

    /**
     * @param pose a pre-rendered pose video, or null to extract poses with DWPose
     * @param workDir scratch space for the preview video
     */
    public Summary run(String jobId, byte[] reference, Path driving, Path pose, JobParams params, Path workDir,
            ConditionSink out, Progress progress) throws Exception {
        int w = params.width();
        int h = params.height();
        boolean face = params.faceControl();

        RgbImage upload = ImageCodec.decode(reference, "reference image");
        // X-Dyna's CLIP input comes from the original upload (Image.open(path) -> CLIPImageProcessor), not
        // from the W x H crop: made here, where the upload is decoded, and stored as 224 x 224
        out.put(StorageLayout.conditionReferenceClip(jobId), ImageCodec.png(clipImage(upload)), "image/png");
        RgbImage ref = Crop2Ratio.prepareReference(upload, w, h);
        out.put(StorageLayout.conditionReference(jobId), ImageCodec.png(ref), "image/png");
        DwPose.Person refPerson = dwpose.mainPerson(ref, new PersonTracker());
        if (refPerson == null) {
            throw JobFailure.permanent(ErrorCode.NO_PERSON, "No person was found in the reference image. Use a photo"
                    + " that shows the person's whole body.");
        }
        progress.report(0.05, "reference prepared");

        VideoInfo info = VideoDecoder.probe(driving, "driving video");
        FrameSelection selection = new FrameSelection(params.stride(), params.length());
        int expected = Math.max(1, info.frameEstimate() > 0 ? selection.countFor(info.frameEstimate()) : params.length());
        boolean extractPoses = pose == null;
        List<PersonPose> poses = new ArrayList<>();
        FaceMaps faceMaps = new FaceMaps();
        PersonTracker tracker = new PersonTracker();
        boolean runPose = extractPoses || face;
        // frames go to the networks in groups of the pose batch (1 = frame by frame, as before)
        int group = Math.max(dwpose.poseBatch(), dwpose.detectorBatch());
        FrameGroup consumer = frames -> {
            List<DwPose.Person> people;
            if (runPose) {
                List<RgbImage> images = new ArrayList<>(frames.size());
                boolean[] detect = new boolean[frames.size()];
                for (int j = 0; j < frames.size(); j++) {
                    images.add(frames.get(j).frame());
                    detect[j] = frames.get(j).index() % detEvery == 0;
                }
                people = group == 1 ? Collections.singletonList(dwpose.mainPerson(images.get(0), tracker, detect[0]))
                        : dwpose.mainPersons(images, tracker, detect);
            } else {
                people = Collections.nCopies(frames.size(), null);
            }
            for (int j = 0; j < frames.size(); j++) {
                Decoded d = frames.get(j);
                int i = d.index();
                out.put(StorageLayout.conditionDriving(jobId, i), d.jpeg(), "image/jpeg");
                DwPose.Person person = people.get(j);
                poses.add(person == null ? null : person.pose());
                if (face) {
                    FaceMaps.Maps maps = faceMaps.next(d.frame(), landmarks(person));
                    out.put(StorageLayout.conditionFaceLocal(jobId, i), ImageCodec.png(maps.local()), "image/png");
                    out.put(StorageLayout.conditionFaceGlobal(jobId, i), ImageCodec.png(maps.global()), "image/png");
                }
                progress.report(0.05 + 0.65 * Math.min(1.0, (i + 1.0) / expected),
                        "frame " + (i + 1) + " of about " + expected);
            }
        };
        int count = decodeDriving(driving, selection, w, h, group, consumer);

        Path preview = Files.createTempFile(workDir, jobId + "-preview", ".mp4");
        try {
            double fps = params.outputFps(info.fps());
            try (Mp4Writer writer = new Mp4Writer(preview, w, h, fps)) {
                if (extractPoses) {
                    renderPoses(jobId, refPerson.pose(), poses, params, writer, out, progress);
                } else {
                    count = copyPoseVideo(jobId, pose, selection, count, params, writer, out, progress);
                }
            }
            out.putFile(StorageLayout.posePreview(jobId), preview, "video/mp4");
        } finally {
            Files.deleteIfExists(preview);
        }
        progress.report(1.0, count + " frames of conditions ready");
        return new Summary(count, w, h, info.fps(), face);
    }

    /** A selected driving frame after crop2ratio + resize, with its JPEG. */
    private record Decoded(int index, RgbImage frame, byte[] jpeg) {
    }

    /** What is done with a group of consecutive decoded frames, in order. */
    @FunctionalInterface
    private interface FrameGroup {
        void accept(List<Decoded> frames) throws Exception;
    }

    private static final Decoded END = new Decoded(-1, null, null);

    /**
     * Decodes the driving video's selected frames, crops, resizes and JPEG-encodes each, and hands them to
     * {@code consumer} in groups of {@code group} consecutive frames (the last one shorter), in order, on
     * the calling thread. With {@code decodeAhead > 0} the decoding runs on a thread of its own, at most
     * that many frames ahead (a bounded queue), so it overlaps with the networks; returns the frame count.
     */
    private int decodeDriving(Path driving, FrameSelection selection, int w, int h, int group, FrameGroup consumer)
            throws Exception {
        if (decodeAhead == 0) {
            List<Decoded> batch = new ArrayList<>(group);
            VideoDecoder.Result r = VideoDecoder.decode(driving, "driving video", selection, maxDecodeSide, (i, raw) -> {
                batch.add(prepare(i, raw, w, h));
                if (batch.size() == group) {
                    consumer.accept(List.copyOf(batch));
                    batch.clear();
                }
            });
            if (!batch.isEmpty()) {
                consumer.accept(List.copyOf(batch));
            }
            return r.frames();
        }
        BlockingQueue<Decoded> queue = new ArrayBlockingQueue<>(Math.max(decodeAhead, group));
        AtomicBoolean stop = new AtomicBoolean();
        AtomicReference<Throwable> decodeError = new AtomicReference<>();
        int[] frames = {0};
        Thread decoder = new Thread(() -> {
            try {
                frames[0] = VideoDecoder.decode(driving, "driving video", selection, maxDecodeSide, (i, raw) -> {
                    Decoded d = prepare(i, raw, w, h);
                    while (!queue.offer(d, 100, TimeUnit.MILLISECONDS)) {
                        if (stop.get()) {
                            throw new InterruptedException("pose stage stopped");
                        }
                    }
                }).frames();
            } catch (Throwable t) {
                decodeError.set(t);
            } finally {
                try {
                    while (!stop.get() && !queue.offer(END, 100, TimeUnit.MILLISECONDS)) {
                        // the consumer is still taking frames
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }, "pose-decode");
        decoder.setDaemon(true);
        decoder.start();
        try {
            List<Decoded> batch = new ArrayList<>(group);
            while (true) {
                Decoded d = queue.take();
                if (d == END) {
                    break;
                }
                batch.add(d);
                if (batch.size() == group) {
                    consumer.accept(List.copyOf(batch));
                    batch.clear();
                }
            }
            Throwable t = decodeError.get();
            if (t != null) {
                throw t instanceof Exception e ? e : new RuntimeException(t);
            }
            if (!batch.isEmpty()) {
                consumer.accept(List.copyOf(batch));
            }
            return frames[0];
        } finally {
            stop.set(true);
            queue.clear();
            decoder.join(TimeUnit.SECONDS.toMillis(30));
        }
    }

    private static Decoded prepare(int index, RgbImage raw, int w, int h) {
        RgbImage frame = Crop2Ratio.apply(raw, w, h, Interpolation.LINEAR);
        return new Decoded(index, frame, ImageCodec.jpeg(frame, JPEG_QUALITY));
    }

    /** DWPose's 68 face landmarks in frame pixels, or null when the face was not found. */
    static float[] landmarks(DwPose.Person person) {
        if (person == null) {
            return null;
        }
        WholeBody wb = person.wholeBody();
        return wb.visibleFacePoints() >= MIN_FACE_POINTS ? wb.faceLandmarks() : null;
    }

    private void renderPoses(String jobId, PersonPose reference, List<PersonPose> poses, JobParams params,
            Mp4Writer writer, ConditionSink out, Progress progress) throws Exception {
        if (poses.stream().allMatch(p -> p == null)) {
            throw JobFailure.permanent(ErrorCode.NO_PERSON, "No person was found in any of the " + poses.size()
                    + " frames taken from the driving video.");
        }
        int w = params.width();
        int h = params.height();
        List<PersonPose> drawn = poses;
        if (params.alignPose()) {
            drawn = PoseAligner.align(reference, drawn, AlignOptions.defaults(w, h));
        }
        // smoothed after alignment, as docs/pose-conditions.md recommends: the smoother sees the
        // skeleton that is actually drawn
        if (smooth) {
            drawn = PoseSmoother.smooth(drawn, w, h);
        }
        for (int i = 0; i < drawn.size(); i++) {
            PersonPose p = drawn.get(i);
            RgbImage img = PoseRenderer.render(p == null ? Collections.emptyList() : List.of(p), w, h, true);
            out.put(StorageLayout.conditionPose(jobId, i), ImageCodec.png(img), "image/png");
            writer.write(img);
            progress.report(0.7 + 0.28 * (i + 1.0) / drawn.size(), "pose " + (i + 1) + " of " + drawn.size());
        }
    }

    /** Stores the pre-rendered pose video's selected frames; returns how many frames both videos have. */
    private int copyPoseVideo(String jobId, Path pose, FrameSelection selection, int drivingFrames, JobParams params,
            Mp4Writer writer, ConditionSink out, Progress progress) throws Exception {
        int w = params.width();
        int h = params.height();
        FrameSelection upTo = new FrameSelection(selection.stride(), drivingFrames);
        VideoDecoder.Result r = VideoDecoder.decode(pose, "pose video", upTo, maxDecodeSide, (i, raw) -> {
            RgbImage img = Crop2Ratio.apply(raw, w, h, Interpolation.LINEAR);
            out.put(StorageLayout.conditionPose(jobId, i), ImageCodec.png(img), "image/png");
            writer.write(img);
            progress.report(0.7 + 0.28 * (i + 1.0) / drivingFrames, "pose frame " + (i + 1) + " of " + drivingFrames);
        });
        return Math.min(drivingFrames, r.frames());
    }

    /** The CLIP image input X-Dyna makes from the upload: shortest side to 224 (PIL bicubic), centre crop. */
    static RgbImage clipImage(RgbImage upload) {
        int size = ClipCrop.CLIP_SIZE;
        return new RgbImage(size, size, ClipCrop.apply(upload.data(), upload.width(), upload.height(), size));
    }
}
