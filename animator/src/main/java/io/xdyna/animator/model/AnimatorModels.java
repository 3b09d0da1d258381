package io.xdyna.animator.model;

import ai.djl.Device;
import ai.djl.MalformedModelException;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.repository.zoo.Criteria;
import ai.djl.repository.zoo.ModelNotFoundException;
import ai.djl.repository.zoo.ZooModel;
import ai.djl.translate.NoopTranslator;
import io.xdyna.contract.job.ErrorCode;
import io.xdyna.contract.job.JobFailure;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A validated animator bundle with its seven TorchScript roles loaded on the chosen device, and its
 * tokenizer. Built once per process by {@link #load}; {@link #criteria} is the one place that
 * decides how a role is loaded.
 */
public final class AnimatorModels implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(AnimatorModels.class);

    static {
        // Never download anything: the natives come from the jars, the weights from the bundle.
        System.setProperty("ai.djl.offline", "true");
        // The profiling graph executor re-optimises after a few calls of a shape; on a GPU the fused
        // kernels round differently, so the first and later jobs would not be bit-identical.
        if (System.getProperty("ai.djl.pytorch.graph_optimizer") == null) {
            System.setProperty("ai.djl.pytorch.graph_optimizer", "false");
        }
    }

    private final Path dir;
    private final BundleManifest manifest;
    private final DeviceChoice device;
    private final Map<String, Network> networks;
    private final ClipTokenizer tokenizer;

    private AnimatorModels(Path dir, BundleManifest manifest, DeviceChoice device, Map<String, Network> networks,
            ClipTokenizer tokenizer) {
        this.dir = dir;
        this.manifest = manifest;
        this.device = device;
        this.networks = networks;
        this.tokenizer = tokenizer;
    }

    /**
     * Validates and loads the bundle in {@code dir}.
     *
     * @param deviceMode {@code XDYNA_DEVICE}: auto, cpu or cuda
     * @throws JobFailure MODEL_MISSING or MODEL_INVALID naming the problem
     */
    public static AnimatorModels load(Path dir, String deviceMode) {
        BundleManifest m = BundleValidator.validate(dir);
        DeviceChoice d = DeviceChoice.choose(deviceMode, m);
        Map<String, Network> nets = new LinkedHashMap<>();
        ClipTokenizer tok = null;
        try {
            for (String role : BundleManifest.ROLES) {
                Path file = dir.resolve(m.files().get(role).path());
                nets.put(role, new Network(role, criteria(file, d.device()).loadModel()));
            }
            tok = ClipTokenizer.load(dir.resolve(m.tokenizer()), m.textTokens());
        } catch (IOException | ModelNotFoundException | MalformedModelException | RuntimeException e) {
            nets.values().forEach(Network::close);
            if (e instanceof JobFailure f) {
                throw f;
            }
            throw JobFailure.permanent(ErrorCode.MODEL_INVALID, "cannot load bundle " + dir + " on " + d.device()
                    + ": " + e.getMessage(), e);
        }
        LOG.info("loaded model bundle {} ({}, {}) from {} on {} as {}", m.name(), m.kind(), m.modelId(), dir,
                d.device(), d.dtype());
        return new AnimatorModels(dir, m, d, nets, tok);
    }

    /** How every role is loaded: PyTorch engine, tensors in and out unchanged, mapped to the device. */
    static Criteria<NDList, NDList> criteria(Path file, Device device) {
        return Criteria.builder()
                .setTypes(NDList.class, NDList.class)
                .optEngine("PyTorch")
                .optModelPath(file)
                .optDevice(device)
                .optOption("mapLocation", "true")
                .optTranslator(new NoopTranslator())
                .build();
    }

    public Path dir() {
        return dir;
    }

    public BundleManifest manifest() {
        return manifest;
    }

    public DeviceChoice device() {
        return device;
    }

    public Network network(String role) {
        Network n = networks.get(role);
        if (n == null) {
            throw new IllegalArgumentException("no role " + role);
        }
        return n;
    }

    public ClipTokenizer tokenizer() {
        return tokenizer;
    }

    /** A fresh manager on the model's device, for one job's tensors. */
    public NDManager newManager() {
        return NDManager.newBaseManager(device.device(), "PyTorch");
    }

    public Map<String, Network> networks() {
        return networks;
    }

    @Override
    public void close() {
        networks.values().forEach(Network::close);
        tokenizer.close();
    }
}
