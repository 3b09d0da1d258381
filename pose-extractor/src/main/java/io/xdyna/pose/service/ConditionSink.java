package io.xdyna.pose.service;

import java.nio.file.Path;

/** Where the conditions go: the job bucket in the service, a map or a folder in tests and benchmarks. */
public interface ConditionSink {
    void put(String key, byte[] data, String contentType);

    void putFile(String key, Path file, String contentType);
}
