package io.xdyna.contract.event;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * Object keys (in the job bucket) of a job's inputs. {@code pose} is optional: a pre-rendered pose
 * video in X-Dyna's style, which skips pose extraction.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record JobInputs(String reference, String driving, String pose) {
}
