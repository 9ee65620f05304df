// Placeholder translation unit until the first adapter lands (issue 3 replaces it).
namespace keygate::adapters {}
