//! The pupils service (`sen.v1.PupilsService`): work in progress.

pub mod domain;
pub mod entity;
pub mod migration;
