//! The headless command line (clap) over the same core as the GUI.
