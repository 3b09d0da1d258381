package io.xdyna.contract.event;

/** Every event is about one job and keyed by its id. */
public interface JobEvent {
    Integer v();

    String id();

    String tenant();
}
