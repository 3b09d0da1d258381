package io.xdyna.pose.video;

/**
 * What a video file holds, as FFmpeg reports it.
 *
 * @param format container (FFmpeg's demuxer name, e.g. {@code mov,mp4,m4a,3gp,3g2,mj2})
 * @param codec video codec name
 * @param codedWidth width of the stored pictures
 * @param codedHeight height of the stored pictures
 * @param rotation clockwise rotation (0, 90, 180 or 270) the player applies (phones' display matrix)
 * @param width displayed width (after rotation)
 * @param height displayed height (after rotation)
 * @param fps average frame rate: the clock frames are sampled on
 * @param durationSeconds container duration, 0 when unknown
 * @param frameEstimate frames the container declares (or duration x fps), 0 when unknown
 * @param hasAudio whether there is an audio stream (ignored)
 */
public record VideoInfo(String format, String codec, int codedWidth, int codedHeight, int rotation, int width,
        int height, double fps, double durationSeconds, int frameEstimate, boolean hasAudio) {
}
