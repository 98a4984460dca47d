//! placeholder until the domain lands
