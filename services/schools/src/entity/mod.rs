//! sea-orm entities of the schools service's own tables. Nothing outside this
//! crate reads them; other services ask over gRPC.

pub mod authority;
pub mod gias_area;
pub mod school;
pub mod senco_appointment;
