package io.xdyna.pose.service;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

/** Keeps the conditions in memory, for tests. */
final class MapSink implements ConditionSink {
    final Map<String, byte[]> objects = new TreeMap<>();
    final Map<String, String> types = new TreeMap<>();

    @Override
    public synchronized void put(String key, byte[] data, String contentType) {
        objects.put(key, data.clone());
        types.put(key, contentType);
    }

    @Override
    public synchronized void putFile(String key, Path file, String contentType) {
        try {
            put(key, Files.readAllBytes(file), contentType);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
