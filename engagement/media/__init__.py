"""The media library: uploaded images, checked and re-encoded, their storage and their resized variants."""
