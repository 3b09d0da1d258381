package io.xdyna.animator.support;

import io.xdyna.contract.storage.StorageLayout;
import io.xdyna.shared.storage.ObjectStore;

/** Writes a job's conditions into the bucket, as the pose extractor does. */
public final class Conditions {
    private Conditions() {
    }

    public static void write(ObjectStore store, String id, int w, int h, int frames, boolean face) {
        store.put(StorageLayout.conditionReference(id), TestBundles.reference(w, h).png(), "image/png");
        for (int i = 0; i < frames; i++) {
            store.put(StorageLayout.conditionPose(id, i), TestBundles.pose(w, h, i).png(), "image/png");
            if (face) {
                store.put(StorageLayout.conditionFaceLocal(id, i), TestBundles.face(w, h, i, true).png(), "image/png");
                store.put(StorageLayout.conditionFaceGlobal(id, i), TestBundles.face(w, h, i, false).png(),
                        "image/png");
            }
        }
    }
}
